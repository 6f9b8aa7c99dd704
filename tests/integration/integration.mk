# integration/integration tests
