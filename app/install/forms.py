from flask_wtf import FlaskForm
from wtforms import SubmitField


class DisconnectForm(FlaskForm):
    submit = SubmitField("Disconnect")
