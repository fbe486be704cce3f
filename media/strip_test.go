package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
)

// withExif puts an APP1 Exif segment (orientation o, and a GPS-like
// string), a comment and an XMP segment right after a JPEG's SOI.
func withExif(t *testing.T, img []byte, o uint16) []byte {
	t.Helper()
	tiff := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0}
	entry := make([]byte, 12)
	binary.LittleEndian.PutUint16(entry[0:], 0x0112)
	binary.LittleEndian.PutUint16(entry[2:], 3)
	binary.LittleEndian.PutUint32(entry[4:], 1)
	binary.LittleEndian.PutUint16(entry[8:], o)
	tiff = append(append(tiff, entry...), 0, 0, 0, 0)
	tiff = append(tiff, "GPS 48.8584N 2.2945E SecretCam"...)
	seg := func(marker byte, data []byte) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(data)+2))
		return append(s, data...)
	}
	var out []byte
	out = append(out, img[:2]...)
	out = append(out, seg(0xE1, append([]byte("Exif\x00\x00"), tiff...))...)
	out = append(out, seg(0xFE, []byte("shot by SecretCam at home"))...)
	out = append(out, seg(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>SecretCam</x:xmpmeta>"))...)
	out = append(out, seg(0xE2, []byte("ICC_PROFILE\x00\x01\x01keep-me"))...)
	return append(out, img[2:]...)
}

func TestStripJPEG(t *testing.T) {
	orig := testJPEG(t, 16, 8)
	for _, o := range []uint16{1, 6} {
		in := withExif(t, orig, o)
		out := stripMetadata("image/jpeg", in)
		if bytes.Contains(out, []byte("SecretCam")) {
			t.Fatal("metadata left in")
		}
		if !bytes.Contains(out, []byte("ICC_PROFILE\x00\x01\x01keep-me")) {
			t.Fatal("colour profile dropped")
		}
		got := uint16(0)
		if i := bytes.Index(out, []byte("Exif\x00\x00")); i >= 0 {
			got = exifOrientation(out[i:])
		}
		if o == 1 && got != 0 || o == 6 && got != 6 {
			t.Fatalf("orientation %d came out as %d", o, got)
		}
		a, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := jpeg.Decode(bytes.NewReader(orig))
		if a.Bounds() != b.Bounds() || a.At(3, 3) != b.At(3, 3) {
			t.Fatal("pixels changed")
		}
	}
}

func TestStripPNG(t *testing.T) {
	orig := testPNG(t, 4, 4)
	// A tEXt chunk after IHDR (its CRC is not checked by decoders we care about).
	chunk := func(typ string, data []byte) []byte {
		c := make([]byte, 8)
		binary.BigEndian.PutUint32(c, uint32(len(data)))
		copy(c[4:], typ)
		return append(append(c, data...), 0, 0, 0, 0)
	}
	ihdrEnd := 8 + 12 + 13
	in := append([]byte{}, orig[:ihdrEnd]...)
	in = append(in, chunk("tEXt", []byte("Author\x00SecretCam"))...)
	in = append(in, chunk("eXIf", []byte("MM\x00*SecretCam"))...)
	in = append(in, orig[ihdrEnd:]...)
	out := stripMetadata("image/png", in)
	if bytes.Contains(out, []byte("SecretCam")) {
		t.Fatal("metadata left in")
	}
	if !bytes.Equal(out, orig) {
		t.Fatal("stripping changed more than the metadata chunks")
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
}

// Whatever the bytes, stripping never panics, and an image that decoded
// before still decodes after.
func FuzzStrip(f *testing.F) {
	f.Add(testJPEG(f, 4, 4))
	f.Add(testPNG(f, 4, 4))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x02"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x7f\xff\xff\xffIHDR"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{"image/jpeg", "image/png"} {
			out := stripMetadata(typ, data)
			if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
				if _, _, err := image.DecodeConfig(bytes.NewReader(out)); err != nil {
					t.Fatalf("%s decoded before stripping, not after: %v", typ, err)
				}
			}
		}
	})
}
