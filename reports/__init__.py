"""Reports read the published marts only: never landing files, never the pipeline's build."""
