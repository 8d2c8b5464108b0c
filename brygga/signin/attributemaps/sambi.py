"""pysaml2 attribute map for the Sambi/Inera attribute names (integrations.md §1): the SAML attribute name
(a URI) to the same short name the OIDC claims use, so both ways of signing in read one vocabulary."""

SAMBI = "http://sambi.se/attributes/1/"
NAMES = [
    "employeeHsaId",
    "commissionHsaId",
    "commissionName",
    "commissionPurpose",
    "commissionRight",
    "healthCareUnitHsaId",
    "healthCareProviderHsaId",
    "healthcareProfessionalLicense",
    "givenName",
    "surname",
    "title",
]
OTHER = {
    "urn:sambi:names:attribute:levelOfAssurance": "levelOfAssurance",
    "urn:credential:personalIdentityNumber": "credentialPersonalIdentityNumber",
}

MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
    "fro": {**{SAMBI + n: n for n in NAMES}, **OTHER},
    "to": {**{n: SAMBI + n for n in NAMES}, **{v: k for k, v in OTHER.items()}},
}
