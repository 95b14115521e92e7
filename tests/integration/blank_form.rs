//! `tonghop form` -> filled by another tool -> `tonghop check`.
