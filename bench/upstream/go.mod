module benchupstream

go 1.22
