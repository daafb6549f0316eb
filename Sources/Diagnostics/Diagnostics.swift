// Diagnostics: see ../../../shared/DESIGN.md for what this room owns.
