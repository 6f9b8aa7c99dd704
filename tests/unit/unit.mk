# unit/unit tests
