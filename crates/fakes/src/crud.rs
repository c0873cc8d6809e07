//! Fake of the Mia-Platform CRUD Service.
