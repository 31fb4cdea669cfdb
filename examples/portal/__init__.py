"""The example portal: both portals of the design as a Flask application on the public API."""
