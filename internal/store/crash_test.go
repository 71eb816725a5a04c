package store

const crashChildEnv = "TRIAGEDESK_STORE_CRASH_CHILD"

func crashChild() int { return 0 }
