"""The application: configuration, plan, runner and command line, on top of the plug-ins and the framework."""
