"""The cluster wizard's views: a screen per step, the node dialog and discovery; the model is `skynet_tui.wizard`."""
