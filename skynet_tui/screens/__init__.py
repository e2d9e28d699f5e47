"""The screens of the terminal UI: welcome, the wizard steps, dialogs, and the install screen."""
