module github.com/minibit-io/minibit

go 1.26.0
