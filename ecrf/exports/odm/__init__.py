"""CDISC ODM 1.3.2 out (``write_odm``) and in (``import_odm``), checked against the official
schema vendored in ``schema/`` (MIT, see schema/SOURCE.txt)."""
