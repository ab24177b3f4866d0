package render

import (
	"strings"
	"testing"
)

// TestGuestOnly: a digest limited to a guest VM (its hypervisor not in
// the list) gives the VM's own energy as its share of its host's; never
// "0 machines", never a zero total for a machine that did write.
func TestGuestOnly(t *testing.T) {
	d := dayDigest(t, oneDay("vm-a", "vm", 20, 56, 1, dayStart))
	for lang, bad := range map[string]string{"en": "Your 0 machines", "fr": "Vos 0 machines"} {
		m, err := Digest(d, Options{Lang: lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"en": "Your virtual machine used 480\u00a0Wh, its share of its host server's energy", "fr": "Votre machine virtuelle a consommé 480\u00a0Wh, sa part de l’énergie de son serveur hôte"}[lang]
		if !strings.Contains(m.Text, want) || !strings.HasSuffix(m.Subject, "480\u00a0Wh") {
			t.Errorf("%s: no %q, or a subject without it: %s\n%s", lang, want, m.Subject, firstPara(m.Text))
		}
		if strings.Contains(m.Text, bad) {
			t.Errorf("%s: says %q for a VM that wrote:\n%s", lang, bad, firstPara(m.Text))
		}
	}
}

// TestOneMachineWording: one machine is "the machine", never "across
// the 1 machine" / « sur l’ensemble des 1 machine » (the none digest's
// "Machine expected: kvm-1" is in TestDigestNoneSent).
func TestOneMachineWording(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 100, 56, 1, dayStart))
	for lang, bad := range map[string]string{"en": "across the 1 machine", "fr": "des 1 machine"} {
		m, err := Digest(d, Options{Lang: lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"en": "Sensors measured 100% of the day on the machine", "fr": "Les capteurs ont mesuré 100\u202f% de la journée sur la machine"}[lang]
		if strings.Contains(m.Text, bad) || !strings.Contains(m.Text, want) {
			t.Errorf("%s: %q, or no %q:\n%s", lang, bad, want, m.Text)
		}
	}
}
