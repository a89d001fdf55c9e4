"""Environment variables through which the runner tells a stage's kernel who it is."""

ENV_RUN_ID = "MLOPS_LAB_RUN_ID"
ENV_STAGE = "MLOPS_LAB_STAGE"
ENV_PARAMETERS = "MLOPS_LAB_PARAMETERS"
ENV_MANIFEST = "MLOPS_LAB_MANIFEST"
ENV_NOTEBOOK = "MLOPS_LAB_NOTEBOOK"  # the stage notebook, relative to the workspace root
ENV_SOURCE_HASH = "MLOPS_LAB_SOURCE_HASH"  # its content hash (code cells and kernel)
ENV_UPSTREAM = "MLOPS_LAB_UPSTREAM"  # outputs of the stages this one (transitively) needs
