"""The revisions, oldest first; each file is one schema change.

Each revision is written out in full rather than built from the schema
module, so that it keeps making the schema of its day whatever later
revisions change.  Alembic reads ``branch_labels`` and ``depends_on`` as
None when a revision leaves them out, as these do.
"""
