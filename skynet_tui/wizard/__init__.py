"""The wizard's model, free of Textual: catalog, answers state, checks, session (flow), preview, access, machines."""
