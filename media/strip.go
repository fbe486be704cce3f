package media

import (
	"bytes"
	"encoding/binary"
)

// stripMetadata removes what a camera or editor wrote about a picture
// (location, device, time, comments) from JPEG and PNG files, without
// decoding or re-encoding them: the pixels, colour profile and orientation
// stay exactly as they were, it costs one copy, and a crafted file cannot
// make it allocate more than that. Other types, and files it cannot follow,
// are returned as they are (the networks Chorus reads strip camera data
// themselves; this is a second line).
func stripMetadata(typ string, body []byte) []byte {
	var out []byte
	switch typ {
	case "image/jpeg":
		out = stripJPEG(body)
	case "image/png":
		out = stripPNG(body)
	}
	if out == nil {
		return body
	}
	return out
}

// JPEG markers that matter here.
const (
	markerSOS   = 0xDA
	markerAPP0  = 0xE0
	markerAPP1  = 0xE1
	markerAPP2  = 0xE2
	markerAPP14 = 0xEE
	markerCOM   = 0xFE
)

// stripJPEG keeps every segment up to the first scan except APP1 (Exif,
// XMP), APP3 to APP13 and APP15 (maker data, IPTC), and comments; APP2
// stays only when it is an ICC profile. An Exif orientation other than
// "normal" is written back as a minimal Exif segment, so a phone photo is
// not shown on its side. It returns nil when body is not a JPEG it can walk.
func stripJPEG(body []byte) []byte {
	if len(body) < 4 || body[0] != 0xFF || body[1] != 0xD8 {
		return nil
	}
	var head, rest bytes.Buffer
	orientation := uint16(0)
	i := 2
	first := true
	for {
		// Skip fill bytes before a marker.
		for i < len(body) && body[i] == 0xFF && i+1 < len(body) && body[i+1] == 0xFF {
			i++
		}
		if i+4 > len(body) || body[i] != 0xFF {
			return nil
		}
		marker := body[i+1]
		if marker == markerSOS {
			rest.Write(body[i:])
			break
		}
		n := int(binary.BigEndian.Uint16(body[i+2:]))
		if n < 2 || i+2+n > len(body) {
			return nil
		}
		seg := body[i : i+2+n]
		data := seg[4:]
		keep := true
		switch {
		case marker == markerAPP1:
			keep = false
			if o := exifOrientation(data); o != 0 {
				orientation = o
			}
		case marker == markerAPP2:
			keep = bytes.HasPrefix(data, []byte("ICC_PROFILE\x00"))
		case marker > markerAPP2 && marker <= 0xEF && marker != markerAPP14, marker == markerCOM:
			keep = false
		}
		if keep {
			// JFIF's APP0 must stay first; everything else goes after the
			// orientation segment.
			if first && marker == markerAPP0 {
				head.Write(seg)
			} else {
				rest.Write(seg)
			}
		}
		first = false
		i += 2 + n
	}
	out := make([]byte, 0, len(body))
	out = append(out, 0xFF, 0xD8)
	out = append(out, head.Bytes()...)
	if orientation > 1 && orientation <= 8 {
		out = append(out, orientationSegment(orientation)...)
	}
	return append(out, rest.Bytes()...)
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// segment's data; 0 when there is none or the data is not Exif.
func exifOrientation(data []byte) uint16 {
	tiff, ok := bytes.CutPrefix(data, []byte("Exif\x00\x00"))
	if !ok || len(tiff) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 0
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 0
	}
	count := int(order.Uint16(tiff[ifd:]))
	for e := 0; e < count; e++ {
		at := ifd + 2 + 12*e
		if at+12 > len(tiff) {
			return 0
		}
		if order.Uint16(tiff[at:]) == 0x0112 && order.Uint16(tiff[at+2:]) == 3 {
			return order.Uint16(tiff[at+8:])
		}
	}
	return 0
}

// orientationSegment is an APP1 Exif segment holding only an orientation.
func orientationSegment(o uint16) []byte {
	tiff := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, // Orientation, SHORT, 1
		0, 0, 0, 0, // no next IFD
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, markerAPP1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	return append(seg, payload...)
}

// pngDropped are the PNG chunks that carry text, Exif or a timestamp.
var pngDropped = map[string]bool{"tEXt": true, "zTXt": true, "iTXt": true, "eXIf": true, "tIME": true}

// stripPNG drops text, Exif and time chunks and keeps every other chunk
// (pixels, palette, transparency, colour profile, animation) as it is. It
// returns nil when body is not a PNG it can walk.
func stripPNG(body []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(body, []byte(sig)) {
		return nil
	}
	out := make([]byte, 0, len(body))
	out = append(out, sig...)
	for i := len(sig); i < len(body); {
		if i+12 > len(body) {
			return nil
		}
		n := int(binary.BigEndian.Uint32(body[i:]))
		end := i + 12 + n
		if n < 0 || n > len(body) || end > len(body) {
			return nil
		}
		typ := string(body[i+4 : i+8])
		if !pngDropped[typ] {
			out = append(out, body[i:end]...)
		}
		i = end
		if typ == "IEND" {
			break
		}
	}
	return out
}
