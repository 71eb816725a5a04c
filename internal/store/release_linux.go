package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped tells the kernel that the cache file's pages mapped into
// the process are not needed for now (MADV_DONTNEED). bbolt reads the file
// through a read-only shared mapping, and every page a full scan (the
// worklist's 10,000 referrals) touched stays counted in the process's
// resident memory, about 30 MB for 10,000 referrals, though only the page
// cache holds it. The pages stay in the page cache: the next read of them
// maps them again from there, with the file's current contents, so this
// changes no data. Call it inside a read transaction (which keeps bbolt
// from remapping the file meanwhile); failure changes nothing.
func releaseMapped(tx *bolt.Tx) {
	data, size := tx.DB().Info().Data, tx.Size()
	if data == 0 || size <= 0 {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
}
