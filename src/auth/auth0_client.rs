//! The Auth0 Client adapter of the `AuthProvider` port (contracts/peers.md §1).
