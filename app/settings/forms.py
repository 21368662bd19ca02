from flask_wtf import FlaskForm
from wtforms import SubmitField


class EventKindsForm(FlaskForm):
    """The switches are checkboxes named `keep` (one per kind, read as a
    list); the form carries the CSRF token."""

    submit = SubmitField("Save")


class DeleteDataForm(FlaskForm):
    submit = SubmitField("Delete my data")
