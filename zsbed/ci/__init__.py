"""The GitHub Actions workflow, its matrix, and its rehearsals here (make
ci-local, make ci-container)."""
