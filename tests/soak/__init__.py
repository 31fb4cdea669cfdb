"""The soak: worker processes mixing every use case on Postgres and S3, with faults, then checks."""
