package document

import (
	"archive/zip"
	"bytes"
	"mime"
	"net/http"
	"path"
	"strings"
)

// FileType is what a file really is, judged from its content first and its
// declared content type and file name only when the content does not say.
type FileType string

// The file types Triage Desk knows.
const (
	TypePDF     FileType = "pdf"
	TypePNG     FileType = "png"
	TypeJPEG    FileType = "jpeg"
	TypeGIF     FileType = "gif"
	TypeTIFF    FileType = "tiff"
	TypeBMP     FileType = "bmp"
	TypeText    FileType = "text"
	TypeHTML    FileType = "html"
	TypeRTF     FileType = "rtf"
	TypeXML     FileType = "xml"
	TypeDOCX    FileType = "docx"
	TypeDOC     FileType = "doc" // legacy Word (OLE2 compound file)
	TypeAudio   FileType = "audio"
	TypeVideo   FileType = "video"
	TypeDICOM   FileType = "dicom"
	TypeUnknown FileType = "unknown"
)

// Label is a plain-English name for the type, for the metadata preview.
func (t FileType) Label() string {
	switch t {
	case TypePDF:
		return "PDF document"
	case TypePNG:
		return "PNG image"
	case TypeJPEG:
		return "JPEG image"
	case TypeGIF:
		return "GIF image"
	case TypeTIFF:
		return "TIFF image"
	case TypeBMP:
		return "BMP image"
	case TypeText:
		return "Plain text"
	case TypeHTML:
		return "Web page (HTML)"
	case TypeRTF:
		return "Rich Text document (RTF)"
	case TypeXML:
		return "XML document"
	case TypeDOCX:
		return "Word document (DOCX)"
	case TypeDOC:
		return "Word 97-2003 document (DOC)"
	case TypeAudio:
		return "Audio recording"
	case TypeVideo:
		return "Video"
	case TypeDICOM:
		return "Medical image (DICOM)"
	}
	return "Unknown file type"
}

// MIMEType is the canonical content type for t.
func (t FileType) MIMEType() string {
	switch t {
	case TypePDF:
		return "application/pdf"
	case TypePNG:
		return "image/png"
	case TypeJPEG:
		return "image/jpeg"
	case TypeGIF:
		return "image/gif"
	case TypeTIFF:
		return "image/tiff"
	case TypeBMP:
		return "image/bmp"
	case TypeText:
		return "text/plain"
	case TypeHTML:
		return "text/html"
	case TypeRTF:
		return "application/rtf"
	case TypeXML:
		return "application/xml"
	case TypeDOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case TypeDOC:
		return "application/msword"
	case TypeDICOM:
		return "application/dicom"
	}
	return "application/octet-stream"
}

// extTypes maps file extensions to types, used only when the content gives no
// answer.
var extTypes = map[string]FileType{
	".pdf": TypePDF, ".png": TypePNG, ".jpg": TypeJPEG, ".jpeg": TypeJPEG, ".jpe": TypeJPEG,
	".gif": TypeGIF, ".tif": TypeTIFF, ".tiff": TypeTIFF, ".bmp": TypeBMP,
	".txt": TypeText, ".text": TypeText, ".csv": TypeText, ".log": TypeText,
	".htm": TypeHTML, ".html": TypeHTML, ".xhtml": TypeHTML, ".rtf": TypeRTF,
	".xml": TypeXML, ".docx": TypeDOCX, ".doc": TypeDOC, ".dot": TypeDOC,
	".mp3": TypeAudio, ".wav": TypeAudio, ".m4a": TypeAudio, ".aac": TypeAudio, ".ogg": TypeAudio, ".wma": TypeAudio, ".amr": TypeAudio,
	".mp4": TypeVideo, ".m4v": TypeVideo, ".mov": TypeVideo, ".avi": TypeVideo, ".wmv": TypeVideo, ".webm": TypeVideo, ".mkv": TypeVideo, ".3gp": TypeVideo,
	".dcm": TypeDICOM, ".dicom": TypeDICOM,
}

// mimeTypes maps declared content types to types.
var mimeTypes = map[string]FileType{
	"application/pdf": TypePDF, "image/png": TypePNG, "image/jpeg": TypeJPEG, "image/jpg": TypeJPEG, "image/pjpeg": TypeJPEG,
	"image/gif": TypeGIF, "image/tiff": TypeTIFF, "image/bmp": TypeBMP, "image/x-ms-bmp": TypeBMP,
	"text/plain": TypeText, "text/csv": TypeText, "text/html": TypeHTML, "application/xhtml+xml": TypeHTML,
	"application/rtf": TypeRTF, "text/rtf": TypeRTF, "application/xml": TypeXML, "text/xml": TypeXML,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": TypeDOCX,
	"application/msword": TypeDOC, "application/dicom": TypeDICOM,
}

// DetectType says what data is. Content signatures win: a file named
// "letter.pdf" that is really a PNG is a PNG. The declared content type and
// then the file name's extension decide only for content without a
// signature (text-like files, audio and video containers we do not parse).
// mismatch reports that the declared type or extension named a different
// concrete type than the content shows.
func DetectType(name, contentType string, data []byte) (t FileType, mismatch bool) {
	declared := declaredType(name, contentType)
	t = sniffContent(data)
	if t == TypeDOC && declared != TypeDOC && (strings.TrimSpace(contentType) != "" || path.Ext(name) != "") {
		// An OLE2 compound file that is not declared as Word is another
		// Office format (Excel, Outlook, PowerPoint): shown as metadata.
		return TypeUnknown, false
	}
	if t == TypeUnknown || t == TypeText {
		// Content without a signature: text-like kinds are told apart by
		// their declaration when the text itself is not conclusive.
		if t == TypeText && (declared == TypeHTML || declared == TypeXML || declared == TypeText) {
			return declared, false
		}
		if t == TypeUnknown && (declared == TypeAudio || declared == TypeVideo || declared == TypeDOC || declared == TypeDICOM) {
			return declared, false
		}
		if t == TypeUnknown && declared != "" {
			return TypeUnknown, true
		}
		return t, false
	}
	return t, declared != "" && declared != t && !compatible(declared, t)
}

// compatible reports declarations that are not a real mismatch.
func compatible(declared, actual FileType) bool {
	return declared == TypeXML && actual == TypeHTML || declared == TypeHTML && actual == TypeXML ||
		declared == TypeText && (actual == TypeHTML || actual == TypeXML || actual == TypeRTF)
}

func declaredType(name, contentType string) FileType {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		mt = strings.ToLower(mt)
		if t, ok := mimeTypes[mt]; ok {
			return t
		}
		switch {
		case strings.HasPrefix(mt, "audio/"):
			return TypeAudio
		case strings.HasPrefix(mt, "video/"):
			return TypeVideo
		}
	}
	if t, ok := extTypes[strings.ToLower(path.Ext(strings.ReplaceAll(name, `\`, "/")))]; ok {
		return t
	}
	return ""
}

// sniffContent recognises a type from the bytes alone.
func sniffContent(data []byte) FileType {
	head := data
	if len(head) > 1024 {
		head = head[:1024]
	}
	switch {
	case len(data) == 0:
		return TypeUnknown
	case bytes.Contains(head, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return TypeGIF
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return TypeTIFF
	case bytes.HasPrefix(data, []byte("BM")) && len(data) >= 26:
		return TypeBMP
	case len(data) >= 132 && string(data[128:132]) == "DICM":
		return TypeDICOM
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return TypeDOC
	case bytes.HasPrefix(data, []byte(`{\rtf`)):
		return TypeRTF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		if isDOCX(data) {
			return TypeDOCX
		}
		return TypeUnknown
	}
	ct := http.DetectContentType(data)
	switch {
	case strings.HasPrefix(ct, "text/html"):
		return TypeHTML
	case strings.HasPrefix(ct, "text/xml"):
		return TypeXML
	case strings.HasPrefix(ct, "text/plain"):
		if looksLikeXML(head) {
			return TypeXML
		}
		return TypeText
	case strings.HasPrefix(ct, "audio/"), ct == "application/ogg":
		return TypeAudio
	case strings.HasPrefix(ct, "video/"):
		return TypeVideo
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return TypeText // UTF-16 with a byte-order mark
	}
	return TypeUnknown
}

func looksLikeXML(head []byte) bool {
	s := bytes.TrimLeft(head, "\ufeff \t\r\n")
	return bytes.HasPrefix(s, []byte("<?xml")) || bytes.HasPrefix(s, []byte("<")) && bytes.Contains(s, []byte("</"))
}

// isDOCX reports whether a zip holds word/document.xml. Only the central
// directory is read.
func isDOCX(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) > 10000 {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			return true
		}
	}
	return false
}
