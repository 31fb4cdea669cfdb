"""supportdesk behind Django: settings, an app config holding the desk per process, views."""
