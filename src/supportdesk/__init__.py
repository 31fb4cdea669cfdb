"""supportdesk: the back end of a customer support portal, embedded in your application."""
