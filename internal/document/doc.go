// Package document turns the bytes of a referral's documents into something a
// clinician can read: PDF pages rendered by PDFium (compiled to WebAssembly and
// run in-process by wazero, so no cgo and no host files), images decoded with
// limits, and text-like files (plain text, HTML, RTF, XML, DOCX) reduced to
// safe plain text. Files it cannot show (legacy Word, audio, video, DICOM) get
// a metadata-only preview.
//
// It works on bytes in, images and text out: it never reads the encrypted
// store and never imports Fyne. The store hands it decrypted bytes; the UI
// calls it off the UI goroutine and shows the returned images.
//
// Every render is bounded: each call into PDFium (opening a document, or
// drawing, reading or searching a page) has a deadline
// (Options.CallDeadline), each PDFium instance's memory has a cap
// (Options.MemoryLimit) and images decoded in Go have pixel and memory
// caps. A document that meets a limit is refused as "too large to draw
// safely" (KindTooLarge) and the instance it ran on is replaced.
//
// Every problem with a file comes back as an *Error with a Kind and a
// plain-English reason (Error.Message gives "This document could not be
// displayed: <reason>"); a failure never comes back as a blank image.
//
// It also writes the explicit "open with another program" / "save a copy"
// files (TempFiles, SaveCopy, SanitizeFilename) and builds the vetting-pack
// PDF (BuildVettingPack).
package document
