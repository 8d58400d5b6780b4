"""What every part of zsbed uses: errors, paths, files on disk, TOML and text
loading, progress lines, the Debian packages it needs, the C function locator."""
