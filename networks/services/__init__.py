"""The only code that changes state. Functions are named <entity>_<action> and take keyword arguments."""
