"""Talos: patch documents, talosctl argv builders and output parsers (configs themselves come from talosctl)."""
