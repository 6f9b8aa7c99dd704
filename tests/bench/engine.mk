# engine seal/open benchmark
