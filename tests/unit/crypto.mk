# crypto / session unit tests
