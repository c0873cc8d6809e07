//! Fake of the Mia-Platform Auth0 Client.
