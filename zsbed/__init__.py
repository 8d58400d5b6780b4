"""zsbed: a user-mode Linux test bed for the zsmalloc zs_free() series."""
