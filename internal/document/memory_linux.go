package document

import "syscall"

// mapNoReserve keeps the reservation from counting against the commit limit.
const mapNoReserve = syscall.MAP_NORESERVE
