"""Early warning: rules over the service's own figures, each firing once per episode."""
