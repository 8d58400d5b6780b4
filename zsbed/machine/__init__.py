"""Booting a kernel: UML, or an x86_64 guest under QEMU, and the sweep of any
process a boot leaves behind."""
