from django import forms


class NewKeyForm(forms.Form):
    name = forms.CharField(
        max_length=80, strip=True,
        error_messages={"required": "Give the key a name, such as the app that will use it.",
                        "max_length": "Keep the name under 80 characters."},
    )
