from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

MIN_PASSWORD = 10


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    next = StringField()  # where to go after signing in; validated by the view
    submit = SubmitField("Sign in")


class SignupForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address like name@example.com."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=256,
                message=f"Use at least {MIN_PASSWORD} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[
            DataRequired(),
            EqualTo("password", message="The passwords differ."),
        ],
    )
    next = StringField()
    submit = SubmitField("Create account")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")
