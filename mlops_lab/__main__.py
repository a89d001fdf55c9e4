from mlops_lab.cli import main

main()
