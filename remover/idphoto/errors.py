"""The one exception the ID photo mode raises for problems with the person's photo."""


class IdPhotoError(ValueError):
    """The photo cannot become an ID photo; ``str(err)`` is a message meant for the person."""
