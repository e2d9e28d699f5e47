"""The wizard's model, free of Textual: its fields (catalog), the answers (state), checks, the session (flow)."""
