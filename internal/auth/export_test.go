package auth

// DummyHash is exported to tests.
const DummyHash = dummyHash
