from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

MIN_PASSWORD = 10


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _email_field() -> EmailField:
    return EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address like name@example.com."),
            Length(max=254),
        ],
    )


def _new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=256,
                message=f"Use at least {MIN_PASSWORD} characters.",
            ),
        ],
    )


def _repeat_field() -> PasswordField:
    return PasswordField(
        "Repeat password",
        validators=[
            DataRequired(),
            EqualTo("password", message="The passwords differ."),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    next = StringField()  # where to go after signing in; validated by the view
    submit = SubmitField("Sign in")


class SignupForm(FlaskForm):
    email = _email_field()
    password = _new_password_field()
    confirm = _repeat_field()
    next = StringField()
    submit = SubmitField("Create account")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class ForgotPasswordForm(FlaskForm):
    email = _email_field()
    submit = SubmitField("Send me a link")


class ConfirmEmailForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    # Asked only in a browser other than the one that signed up (see the view).
    password = PasswordField("Password", validators=[Length(max=256)])
    submit = SubmitField("Confirm and continue")


class ResetPasswordForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    password = _new_password_field("New password")
    confirm = _repeat_field()
    submit = SubmitField("Change password")


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=256)]
    )
    password = _new_password_field("New password")
    confirm = _repeat_field()
    submit = SubmitField("Change password")
