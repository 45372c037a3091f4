"""Static vocabulary of the synthetic region: agencies, service units, names, indicators, courses.

Kept apart from the generating code so the numbers and words a reader sees in the data can be
checked in one place. Names include Windows-1252 characters (é, ’) on purpose: a reader that
decodes a cp1252 file as UTF-8 breaks on them.
"""

from __future__ import annotations

from typing import NamedTuple

from pipelines.rules import golongan
from pipelines.rules.indicator import HIGHER, LAST, LOWER, SUM

PEMDA = (
    ("MNA", "Kota Manna"),
    ("PSP", "Kota Padangsidempuan"),
)

# (suffix, nama_opd, weight in its pemda's headcount, JPT title, fungsional titles)
AGENCY_TYPES: dict[str, tuple[str, float, str, tuple[str, ...]]] = {
    "DISDIK": (
        "Dinas Pendidikan",
        0.36,
        "Kepala Dinas",
        ("Guru Ahli Pertama", "Guru Ahli Muda", "Pengawas Sekolah Ahli Madya"),
    ),
    "DINKES": (
        "Dinas Kesehatan",
        0.26,
        "Kepala Dinas",
        ("Perawat Ahli Pertama", "Bidan Terampil", "Dokter Ahli Muda", "Apoteker Ahli Pertama"),
    ),
    "DISDUKCAPIL": (
        "Dinas Kependudukan dan Pencatatan Sipil",
        0.09,
        "Kepala Dinas",
        ("Administrator Database Kependudukan Ahli Pertama", "Pranata Komputer Terampil"),
    ),
    "DPMPTSP": (
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        0.07,
        "Kepala Dinas",
        ("Analis Kebijakan Ahli Muda", "Penata Perizinan Ahli Pertama"),
    ),
    "DISHUB": (
        "Dinas Perhubungan",
        0.09,
        "Kepala Dinas",
        ("Penguji Kendaraan Bermotor Terampil", "Asisten Inspektur Angkutan Darat"),
    ),
    "DINSOS": (
        "Dinas Sosial",
        0.07,
        "Kepala Dinas",
        ("Pekerja Sosial Ahli Pertama", "Penyuluh Sosial Ahli Muda"),
    ),
    "BKPSDM": (
        "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
        0.06,
        "Kepala Badan",
        ("Analis SDM Aparatur Ahli Muda", "Pranata SDM Aparatur Terampil"),
    ),
}

AGENCIES_BY_PEMDA = {
    "MNA": ("DISDIK", "DINKES", "DISDUKCAPIL", "DPMPTSP", "DISHUB", "BKPSDM"),
    "PSP": ("DISDIK", "DINKES", "DISDUKCAPIL", "DPMPTSP", "DINSOS", "BKPSDM"),
}
PEMDA_SHARE = {"MNA": 0.42, "PSP": 0.58}

SERVICE_UNITS = {
    "DISDIK": ("Layanan Legalisir Ijazah", "Layanan Mutasi Peserta Didik"),
    "DINKES": ("Puskesmas Kota", "Layanan Perizinan Kesehatan", "Laboratorium Kesehatan Daerah"),
    "DISDUKCAPIL": ("Layanan KTP-el", "Layanan Kartu Keluarga", "Layanan Akta Kelahiran"),
    "DPMPTSP": ("Mal Pelayanan Publik", "Layanan Perizinan Berusaha"),
    "DISHUB": ("Pengujian Kendaraan Bermotor",),
    "DINSOS": ("Layanan Bantuan Sosial", "Layanan Rehabilitasi Sosial"),
    "BKPSDM": ("Layanan Administrasi Kepegawaian",),
}
SERVICE_KINDS = ("Permohonan baru", "Perubahan data", "Konsultasi", "Pengambilan dokumen")

BIDANG = (
    "Sekretariat",
    "Bidang Pelayanan",
    "Bidang Perencanaan dan Evaluasi",
    "Bidang Pengembangan",
    "Bidang Pengendalian dan Pengawasan",
    "Bidang Data dan Informasi",
    "Bidang Pembinaan",
)
PENGAWAS_TITLES = ("Kepala Seksi", "Kepala Subbagian")
PELAKSANA_TITLES = (
    "Pengadministrasi Umum",
    "Pengelola Data",
    "Operator Layanan Operasional",
    "Pengolah Data dan Informasi",
    "Penata Layanan Operasional",
)

MALE_FIRST = (
    "Ahmad", "Budi", "Dedi", "Eko", "Fajar", "Hendra", "Irfan", "Joko", "Muhammad", "Rizki",
    "Agus", "Bambang", "Yusuf", "Ma’ruf", "Syafi’i", "André", "Hasan", "Rudi", "Wahyu", "Arif",
)  # fmt: skip
FEMALE_FIRST = (
    "Siti", "Dewi", "Sri", "Rina", "Nur’aini", "Rabi’ah", "Fitri", "Indah", "Ayu", "Putri",
    "Lestari", "Wulan", "Yuliana", "Renée", "Maya", "Rini", "Ratna", "Ani", "Kartika", "Nurul",
)  # fmt: skip
LAST_NAMES = (
    "Siregar", "Harahap", "Nasution", "Lubis", "Hasibuan", "Pohan", "Daulay", "Rangkuti",
    "Pratama", "Wijaya", "Hidayat", "Kurniawan", "Santoso", "Putra", "Saputra", "Rahman",
    "Effendi", "Simatupang", "Batubara", "Gumay",
)  # fmt: skip
DEGREES = ("", "", "", ", S.Pd.", ", S.E.", ", S.Kom.", ", S.Kep.", ", M.Si.", ", S.H.")


class Indicator(NamedTuple):
    """One individual indicator (IKI) of an agency type: its name, unit and annual target
    choices, and what rules.indicator needs: aspek, arah (naik / turun: lower is better, time
    and cost), jenis_agregasi (jumlah: quarters add up; terakhir: the latest value)."""

    indikator: str
    satuan: str
    targets: tuple[float, ...]
    aspek: str
    arah: str
    jenis_agregasi: str


IKI = Indicator
# Five indicators per agency type; one per type is lower-is-better (a time or a cost). The
# index the planted group disparity uses (plan.effect_plan: 1) stays a percentage.
INDICATORS: dict[str, tuple[Indicator, ...]] = {
    "DISDIK": (
        IKI("Persentase ketuntasan pembelajaran", "%", (85, 90, 95), "kualitas", HIGHER, LAST),
        IKI("Jumlah perangkat ajar yang disusun", "dokumen", (8, 12), "kuantitas", HIGHER, SUM),
        IKI("Persentase kehadiran peserta didik", "%", (90, 95), "kuantitas", HIGHER, LAST),
        IKI("Jumlah laporan evaluasi hasil belajar", "laporan", (4, 8), "kuantitas", HIGHER, SUM),
        IKI("Rata-rata waktu koreksi hasil ujian", "hari", (3, 5), "waktu", LOWER, LAST),
    ),
    "DINKES": (
        IKI(
            "Persentase pasien terlayani sesuai standar",
            "%",
            (90, 95, 100),
            "kuantitas",
            HIGHER,
            LAST,
        ),
        IKI("Cakupan imunisasi dasar lengkap", "%", (85, 90, 95), "kuantitas", HIGHER, LAST),
        IKI("Jumlah kunjungan rumah", "kunjungan", (40, 60, 80), "kuantitas", HIGHER, SUM),
        IKI("Jumlah laporan surveilans", "laporan", (12, 24), "kuantitas", HIGHER, SUM),
        IKI("Rata-rata waktu tunggu pelayanan pasien", "menit", (30, 45), "waktu", LOWER, LAST),
    ),
    "DISDUKCAPIL": (
        IKI("Rata-rata waktu penerbitan KTP-el", "hari", (2, 3), "waktu", LOWER, LAST),
        IKI("Jumlah KTP-el yang dicetak", "keping", (400, 800, 1200), "kuantitas", HIGHER, SUM),
        IKI(
            "Jumlah data penduduk yang dimutakhirkan", "data", (200, 400), "kuantitas", HIGHER, SUM
        ),
        IKI("Persentase pengaduan yang ditindaklanjuti", "%", (90, 100), "kualitas", HIGHER, LAST),
        IKI("Jumlah laporan kinerja layanan", "laporan", (4, 12), "kuantitas", HIGHER, SUM),
    ),
    "DPMPTSP": (
        IKI("Rata-rata waktu penerbitan izin", "hari", (3, 5), "waktu", LOWER, LAST),
        IKI(
            "Jumlah permohonan izin yang diverifikasi",
            "berkas",
            (120, 240),
            "kuantitas",
            HIGHER,
            SUM,
        ),
        IKI("Jumlah kegiatan promosi investasi", "kegiatan", (4, 6), "kuantitas", HIGHER, SUM),
        IKI("Persentase pengaduan yang ditindaklanjuti", "%", (90, 100), "kualitas", HIGHER, LAST),
        IKI("Jumlah laporan realisasi investasi", "laporan", (4, 12), "kuantitas", HIGHER, SUM),
    ),
    "DISHUB": (
        IKI("Persentase kendaraan lulus uji tepat waktu", "%", (85, 90), "kualitas", HIGHER, LAST),
        IKI("Jumlah kendaraan yang diuji", "unit", (300, 600), "kuantitas", HIGHER, SUM),
        IKI("Rata-rata waktu uji kendaraan", "menit", (45, 60), "waktu", LOWER, LAST),
        IKI("Persentase rambu dalam kondisi baik", "%", (85, 95), "kualitas", HIGHER, LAST),
        IKI("Jumlah laporan pengawasan angkutan", "laporan", (4, 12), "kuantitas", HIGHER, SUM),
    ),
    "DINSOS": (
        IKI("Persentase penerima bantuan tepat sasaran", "%", (90, 95), "kualitas", HIGHER, LAST),
        IKI("Jumlah keluarga yang didampingi", "keluarga", (30, 60), "kuantitas", HIGHER, SUM),
        IKI("Jumlah data DTKS yang diverifikasi", "data", (200, 400), "kuantitas", HIGHER, SUM),
        IKI("Rata-rata waktu verifikasi pengaduan", "hari", (5, 7), "waktu", LOWER, LAST),
        IKI("Jumlah laporan penyaluran bantuan", "laporan", (4, 12), "kuantitas", HIGHER, SUM),
    ),
    "BKPSDM": (
        IKI(
            "Biaya rata-rata per berkas kepegawaian", "rupiah", (15000, 20000), "biaya", LOWER, LAST
        ),
        IKI(
            "Jumlah berkas kepegawaian yang diproses",
            "berkas",
            (120, 240),
            "kuantitas",
            HIGHER,
            SUM,
        ),
        IKI(
            "Jumlah pegawai yang mengikuti pengembangan kompetensi",
            "orang",
            (50, 100),
            "kuantitas",
            HIGHER,
            SUM,
        ),
        IKI("Persentase data SIASN yang valid", "%", (90, 95), "kualitas", HIGHER, LAST),
        IKI("Jumlah laporan analisis jabatan", "laporan", (4, 8), "kuantitas", HIGHER, SUM),
    ),
}

# (nama_pelatihan, jenis, penyelenggara, jp choices)
COURSES = (
    ("Pelatihan Kepemimpinan Pengawas", "klasikal", "BPSDM Provinsi", (40,)),
    ("Pelatihan Dasar CPNS", "klasikal", "BPSDM Provinsi", (40,)),
    ("Bimtek Penyusunan SKP", "klasikal", "BKPSDM", (8, 16)),
    ("Webinar Pelayanan Publik Berorientasi Pelanggan", "nonklasikal", "KemenPANRB", (2, 3)),
    ("E-learning Literasi Digital ASN", "nonklasikal", "LAN RI", (10, 20)),
    ("Coaching dan Mentoring Kinerja", "nonklasikal", "Unit Kerja", (4, 6)),
    ("Bimtek Pengelolaan Keuangan Daerah", "klasikal", "BPKAD", (16, 24)),
    ("Seminar Inovasi Daerah", "klasikal", "Bappeda", (4, 8)),
    ("Kursus Daring Analisis Data", "nonklasikal", "Pusbangkom ASN", (12, 20, 30)),
    ("Magang Pelayanan Terpadu", "klasikal", "Pemerintah Provinsi", (24, 32)),
    ("Diskusi Kelompok Terarah Budaya BerAKHLAK", "nonklasikal", "Unit Kerja", (1.5, 2.5)),
)

SURVEY_EDUCATION = ("SD", "SMP", "SMA", "D3", "S1", "S2")
SURVEY_JOBS = ("PNS", "TNI/Polri", "Pegawai Swasta", "Wiraswasta", "Pelajar/Mahasiswa", "Lainnya")
SURVEY_REMARKS = (
    "Pelayanan sudah baik",
    "Antrean terlalu lama – mohon ditambah loket",
    "Petugas ramah dan cepat",
    "Informasi persyaratan kurang jelas",
    "Ruang tunggu panas, mohon ditambah kipas",
    "Terima kasih, prosesnya mudah",
    "Biaya tidak sesuai informasi, mohon dijelaskan",
    "Sudah bagus, pertahankan",
)

# Ranks I/a .. IV/e from the seed; the generator draws them by position (0 = I/a).
GOLONGAN = golongan.ORDER
