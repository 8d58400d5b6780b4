"""gcov of the series' files: every fallback site must be reached."""
