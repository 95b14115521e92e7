//! Render: the consolidated workbook's layout (pure), and writing it atomically.
