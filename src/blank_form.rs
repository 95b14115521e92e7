//! The blank form for units, written from the form declaration.
