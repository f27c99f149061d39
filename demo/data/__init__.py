"""The demo's people, requests and words as plain values: no database, no services.
`demo.builders` turns them into rows."""
