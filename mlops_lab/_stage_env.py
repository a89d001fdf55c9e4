"""Environment variables through which the runner tells a stage's kernel who it is."""

ENV_RUN_ID = "MLOPS_LAB_RUN_ID"
ENV_STAGE = "MLOPS_LAB_STAGE"
ENV_PARAMETERS = "MLOPS_LAB_PARAMETERS"
ENV_MANIFEST = "MLOPS_LAB_MANIFEST"
ENV_UPSTREAM = "MLOPS_LAB_UPSTREAM"  # outputs of the stages this one (transitively) needs
