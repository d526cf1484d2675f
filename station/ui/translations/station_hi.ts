<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="hi_IN" sourcelanguage="en">
<context>
    <name>CapturePage</name>
    <message>
        <source>&amp;Members to capture:</source>
        <translation>सदस्य जिनका कैप्चर करना है (&amp;M):</translation>
    </message>
    <message>
        <source>Both fingers captured</source>
        <translation>दोनों उंगलियाँ कैप्चर हो गईं</translation>
    </message>
    <message>
        <source>Ca&amp;ncel capture</source>
        <translation>कैप्चर रद्द करें (&amp;N)</translation>
    </message>
    <message>
        <source>Camera preview</source>
        <translation>कैमरा पूर्वावलोकन</translation>
    </message>
    <message>
        <source>Capture &amp;fingers</source>
        <translation>उंगलियाँ कैप्चर करें (&amp;F)</translation>
    </message>
    <message>
        <source>Fingerprints</source>
        <translation>उंगलियों के निशान</translation>
    </message>
    <message>
        <source>Fingers could not be read</source>
        <translation>उंगलियाँ पढ़ी नहीं जा सकीं</translation>
    </message>
    <message>
        <source>Fingers stored: {0}.</source>
        <translation>उंगलियाँ सहेजी गईं: {0}।</translation>
    </message>
    <message>
        <source>No camera picture</source>
        <translation>कैमरे से कोई चित्र नहीं</translation>
    </message>
    <message>
        <source>No photo &amp;possible</source>
        <translation>फ़ोटो संभव नहीं (&amp;P)</translation>
    </message>
    <message>
        <source>Photo</source>
        <translation>फ़ोटो</translation>
    </message>
    <message>
        <source>Photo accepted ({0} bytes).</source>
        <translation>फ़ोटो स्वीकार हुई ({0} बाइट)।</translation>
    </message>
    <message>
        <source>Photo refused: {0}. Adjust and take it again.</source>
        <translation>फ़ोटो अस्वीकार: {0}। ठीक करके फिर से लें।</translation>
    </message>
    <message>
        <source>Place the {0} on the scanner once more: a second impression covers more of the finger</source>
        <translation>स्कैनर पर {0} एक बार फिर रखें: दूसरी छाप उंगली का अधिक भाग दर्ज करती है</translation>
    </message>
    <message>
        <source>Place the {0} on the scanner (try {1} of {2})</source>
        <translation>स्कैनर पर {0} रखें (प्रयास {1} / {2})</translation>
    </message>
    <message>
        <source>Press Capture fingers, then ask for the finger shown here.</source>
        <translation>"उंगलियाँ कैप्चर करें" दबाएँ, फिर यहाँ दिखाई गई उंगली माँगें।</translation>
    </message>
    <message>
        <source>Quality {0}/100: accepted.</source>
        <translation>गुणवत्ता {0}/100: स्वीकार।</translation>
    </message>
    <message>
        <source>Quality {0}/100: not good enough — {1}</source>
        <translation>गुणवत्ता {0}/100: पर्याप्त नहीं — {1}</translation>
    </message>
    <message>
        <source>Simulator: this member's fingers are worn (cannot be read)</source>
        <translation>सिम्युलेटर: इस सदस्य की उंगलियाँ घिसी हुई हैं (पढ़ी नहीं जा सकतीं)</translation>
    </message>
    <message>
        <source>Take &amp;photo</source>
        <translation>फ़ोटो लें (&amp;P)</translation>
    </message>
    <message>
        <source>The camera is missing or not working. Check its cable, then take the photo again.</source>
        <translation>कैमरा नहीं मिला या काम नहीं कर रहा। केबल जाँचें, फिर फ़ोटो दोबारा लें।</translation>
    </message>
    <message>
        <source>The fingers failed the quality check after {0} tries. A biometric exception ({1}) was recorded for this member; the card can still be issued.</source>
        <translation>{0} प्रयासों के बाद भी उंगलियाँ गुणवत्ता जाँच में विफल रहीं। इस सदस्य के लिए बायोमेट्रिक अपवाद ({1}) दर्ज किया गया; कार्ड फिर भी जारी हो सकता है।</translation>
    </message>
    <message>
        <source>exception</source>
        <translation>अपवाद</translation>
    </message>
    <message>
        <source>try again</source>
        <translation>फिर से प्रयास करें</translation>
    </message>
    <message>
        <source>{0} {1} — photo {2}, fingers {3}</source>
        <translation>{0} {1} — फ़ोटो {2}, उंगलियाँ {3}</translation>
    </message>
    <message>
        <source>No fin&amp;gers possible</source>
        <translation>उंगलियाँ संभव नहीं (&amp;G)</translation>
    </message>
    <message>
        <source>Exception recorded: {0}.</source>
        <translation>अपवाद दर्ज किया गया: {0}।</translation>
    </message>
</context>
<context>
    <name>CardPage</name>
    <message>
        <source> (resumed from {0})</source>
        <translation> ({0} से आगे जारी)</translation>
    </message>
    <message>
        <source>&amp;Unlock the FKO card</source>
        <translation>एफ़केओ कार्ड अनलॉक करें (&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Write and authorise the card</source>
        <translation>कार्ड लिखें और अधिकृत करें (&amp;W)</translation>
    </message>
    <message>
        <source>Ca&amp;ncel</source>
        <translation>रद्द करें (&amp;N)</translation>
    </message>
    <message>
        <source>Card inserted.</source>
        <translation>कार्ड लगाया गया।</translation>
    </message>
    <message>
        <source>Card pulled out.</source>
        <translation>कार्ड निकाला गया।</translation>
    </message>
    <message>
        <source>Card {0} issued (FKO issuance {1}, {2} left).
Card face: {3}
Receipt: {4}</source>
        <translation>कार्ड {0} जारी (एफ़केओ जारी क्रमांक {1}, {2} शेष)।
कार्ड का मुखपृष्ठ: {3}
रसीद: {4}</translation>
    </message>
    <message>
        <source>FKO authorisation</source>
        <translation>एफ़केओ प्राधिकरण</translation>
    </message>
    <message>
        <source>FKO card of {0} unlocked; {1} issuances left.</source>
        <translation>{0} का एफ़केओ कार्ड अनलॉक; {1} कार्ड जारी करना शेष।</translation>
    </message>
    <message>
        <source>FKO card unlocked.</source>
        <translation>एफ़केओ कार्ड अनलॉक हुआ।</translation>
    </message>
    <message>
        <source>FKO: place your {0} on the scanner (try {1})</source>
        <translation>एफ़केओ: स्कैनर पर अपनी {0} रखें (प्रयास {1})</translation>
    </message>
    <message>
        <source>Family card</source>
        <translation>परिवार कार्ड</translation>
    </message>
    <message>
        <source>Finger quality {0}/100 was not good enough; place it again.</source>
        <translation>उंगली की गुणवत्ता {0}/100 पर्याप्त नहीं थी; फिर से रखें।</translation>
    </message>
    <message>
        <source>Insert a blank card in the family reader and press Write.</source>
        <translation>परिवार रीडर में खाली कार्ड लगाएँ और "लिखें" दबाएँ।</translation>
    </message>
    <message>
        <source>Simulator: &amp;insert this household's card</source>
        <translation>सिम्युलेटर: इस परिवार का कार्ड लगाएँ (&amp;I)</translation>
    </message>
    <message>
        <source>Simulator: pu&amp;ll the card out</source>
        <translation>सिम्युलेटर: कार्ड निकालें (&amp;L)</translation>
    </message>
    <message>
        <source>Simulator: pull it out in the &amp;middle of writing</source>
        <translation>सिम्युलेटर: लिखते समय बीच में निकालें (&amp;M)</translation>
    </message>
    <message>
        <source>The FKO card is locked. The Field Key Officer inserts their card in the FKO reader and places their finger when asked.</source>
        <translation>एफ़केओ कार्ड लॉक है। फ़ील्ड की ऑफ़िसर अपना कार्ड एफ़केओ रीडर में लगाएँ और कहने पर अपनी उंगली रखें।</translation>
    </message>
    <message>
        <source>The card is issued{0}. Hand it to the family with the receipt.</source>
        <translation>कार्ड जारी हो गया{0}। इसे रसीद के साथ परिवार को सौंपें।</translation>
    </message>
    <message>
        <source>Unlock the FKO card before writing the family card.</source>
        <translation>परिवार कार्ड लिखने से पहले एफ़केओ कार्ड अनलॉक करें।</translation>
    </message>
</context>
<context>
    <name>Devices</name>
    <message>
        <source>Camera</source>
        <translation>कैमरा</translation>
    </message>
    <message>
        <source>FKO card reader</source>
        <translation>एफ़केओ कार्ड रीडर</translation>
    </message>
    <message>
        <source>Family card reader</source>
        <translation>परिवार कार्ड रीडर</translation>
    </message>
    <message>
        <source>Fingerprint scanner</source>
        <translation>फिंगरप्रिंट स्कैनर</translation>
    </message>
    <message>
        <source>MISSING</source>
        <translation>नहीं मिला</translation>
    </message>
    <message>
        <source>NOT WORKING</source>
        <translation>काम नहीं कर रहा</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>तैयार</translation>
    </message>
    <message>
        <source>ready, no card</source>
        <translation>तैयार, कार्ड नहीं</translation>
    </message>
</context>
<context>
    <name>EnrolmentWizard</name>
    <message>
        <source>&amp;Back</source>
        <translation>पीछे (&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Done</source>
        <translation>पूरा (&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Next: capture</source>
        <translation>आगे: कैप्चर (&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Next: write the card</source>
        <translation>आगे: कार्ड लिखें (&amp;N)</translation>
    </message>
    <message>
        <source>1. Members</source>
        <translation>1. सदस्य</translation>
    </message>
    <message>
        <source>2. Photos and fingers</source>
        <translation>2. फ़ोटो और उंगलियाँ</translation>
    </message>
    <message>
        <source>3. Card</source>
        <translation>3. कार्ड</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>बंद करें (Esc)</translation>
    </message>
    <message>
        <source>Wait for the device step to finish (or cancel it) before closing.</source>
        <translation>बंद करने से पहले उपकरण वाले चरण के पूरा होने की प्रतीक्षा करें (या उसे रद्द करें)।</translation>
    </message>
</context>
<context>
    <name>ExceptionDialog</name>
    <message>
        <source>No photo possible</source>
        <translation>फ़ोटो संभव नहीं</translation>
    </message>
    <message>
        <source>Record why {0} cannot be photographed. The card is issued without a photo of this member.</source>
        <translation>दर्ज करें कि {0} की फ़ोटो क्यों नहीं ली जा सकती। कार्ड इस सदस्य की फ़ोटो के बिना जारी होगा।</translation>
    </message>
    <message>
        <source>No fingers possible</source>
        <translation>उंगलियाँ संभव नहीं</translation>
    </message>
    <message>
        <source>Record why no two fingers of {0} can be captured. The card is issued without their fingerprints; the hospital then needs another check.</source>
        <translation>दर्ज करें कि {0} की दो उंगलियाँ क्यों कैप्चर नहीं की जा सकतीं। कार्ड उनके फिंगरप्रिंट के बिना जारी होगा; तब अस्पताल को दूसरी जाँच करनी होगी।</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>कारण (&amp;R):</translation>
    </message>
    <message>
        <source>&amp;Note (optional):</source>
        <translation>टिप्पणी (वैकल्पिक) (&amp;N):</translation>
    </message>
    <message>
        <source>&amp;Record exception</source>
        <translation>अपवाद दर्ज करें (&amp;R)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>रद्द करें</translation>
    </message>
</context>
<context>
    <name>Fingers</name>
    <message>
        <source>left index finger</source>
        <translation>बाईं तर्जनी</translation>
    </message>
    <message>
        <source>left little finger</source>
        <translation>बाईं कनिष्ठा</translation>
    </message>
    <message>
        <source>left middle finger</source>
        <translation>बाईं मध्यमा</translation>
    </message>
    <message>
        <source>left ring finger</source>
        <translation>बाईं अनामिका</translation>
    </message>
    <message>
        <source>left thumb</source>
        <translation>बायाँ अँगूठा</translation>
    </message>
    <message>
        <source>right index finger</source>
        <translation>दाईं तर्जनी</translation>
    </message>
    <message>
        <source>right little finger</source>
        <translation>दाईं कनिष्ठा</translation>
    </message>
    <message>
        <source>right middle finger</source>
        <translation>दाईं मध्यमा</translation>
    </message>
    <message>
        <source>right ring finger</source>
        <translation>दाईं अनामिका</translation>
    </message>
    <message>
        <source>right thumb</source>
        <translation>दायाँ अँगूठा</translation>
    </message>
</context>
<context>
    <name>FormDialog</name>
    <message>
        <source>Exclusion or grievance form</source>
        <translation>बहिष्करण या शिकायत फ़ॉर्म</translation>
    </message>
    <message>
        <source>For a family that is not on the list (exclusion) or any complaint (grievance). The form goes to the district with the camp bundle.</source>
        <translation>उस परिवार के लिए जो सूची में नहीं है (बहिष्करण) या किसी भी शिकायत के लिए। फ़ॉर्म शिविर बंडल के साथ ज़िले को जाता है।</translation>
    </message>
    <message>
        <source>Exclusion: family not on the list</source>
        <translation>बहिष्करण: परिवार सूची में नहीं है</translation>
    </message>
    <message>
        <source>Grievance: a complaint</source>
        <translation>शिकायत</translation>
    </message>
    <message>
        <source>&amp;Kind:</source>
        <translation>प्रकार (&amp;K):</translation>
    </message>
    <message>
        <source>&amp;Applicant's name:</source>
        <translation>आवेदक का नाम (&amp;A):</translation>
    </message>
    <message>
        <source>&amp;Village:</source>
        <translation>गाँव (&amp;V):</translation>
    </message>
    <message>
        <source>&amp;URN (if listed):</source>
        <translation>यूआरएन (यदि सूची में है) (&amp;U):</translation>
    </message>
    <message>
        <source>&amp;Members claimed:</source>
        <translation>बताए गए सदस्य (&amp;M):</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>विवरण (&amp;D):</translation>
    </message>
    <message>
        <source>&amp;Save form</source>
        <translation>फ़ॉर्म सहेजें (&amp;S)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>रद्द करें</translation>
    </message>
    <message>
        <source>Open the camp first.</source>
        <translation>पहले शिविर खोलें।</translation>
    </message>
</context>
<context>
    <name>HospitalWindow</name>
    <message>
        <source>&amp;Admit (block the package rate)</source>
        <translation>भर्ती करें (पैकेज राशि रोकें) (&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Check the card</source>
        <translation>कार्ड जाँचें (&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Discharge (debit the final amount)</source>
        <translation>छुट्टी दें (अंतिम राशि काटें) (&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Final amount:</source>
        <translation>अंतिम राशि (&amp;F):</translation>
    </message>
    <message>
        <source>&amp;Login:</source>
        <translation>लॉगिन (&amp;L):</translation>
    </message>
    <message>
        <source>&amp;Open desk</source>
        <translation>डेस्क खोलें (&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>पासवर्ड (&amp;P):</translation>
    </message>
    <message>
        <source>&amp;Verify the patient's finger</source>
        <translation>मरीज़ की उंगली सत्यापित करें (&amp;V)</translation>
    </message>
    <message>
        <source>1. Open the desk</source>
        <translation>1. डेस्क खोलें</translation>
    </message>
    <message>
        <source>2. Family card</source>
        <translation>2. परिवार कार्ड</translation>
    </message>
    <message>
        <source>3. Patient</source>
        <translation>3. मरीज़</translation>
    </message>
    <message>
        <source>Admitted {0}: Rs {1:,.0f} blocked, balance Rs {2:,.0f}.</source>
        <translation>{0} भर्ती: Rs {1:,.0f} रोके गए, शेष Rs {2:,.0f}।</translation>
    </message>
    <message>
        <source>Card accepted.</source>
        <translation>कार्ड स्वीकार हुआ।</translation>
    </message>
    <message>
        <source>Card inserted; press Check the card.</source>
        <translation>कार्ड लगाया गया; "कार्ड जाँचें" दबाएँ।</translation>
    </message>
    <message>
        <source>Card {0} of {1} is genuine (checked in {2:.1f} ms), issued by {3}.
Policy {4}: balance Rs {5:,.0f}.</source>
        <translation>{1} का कार्ड {0} असली है ({2:.1f} ms में जाँचा गया), जारीकर्ता {3}।
पॉलिसी {4}: शेष Rs {5:,.0f}।</translation>
    </message>
    <message>
        <source>Desk open: {0}, hospital card of {1}.</source>
        <translation>डेस्क खुला: {0}, {1} का अस्पताल कार्ड।</translation>
    </message>
    <message>
        <source>Discharged {0}: Rs {1:,.0f} debited, Rs {2:,.0f} released, transport Rs {3:,.0f}; balance Rs {4:,.0f}.</source>
        <translation>{0} को छुट्टी: Rs {1:,.0f} काटे गए, Rs {2:,.0f} लौटाए गए, यात्रा भत्ता Rs {3:,.0f}; शेष Rs {4:,.0f}।</translation>
    </message>
    <message>
        <source>Enrolment station — hospital desk (simulators)</source>
        <translation>नामांकन स्टेशन — अस्पताल डेस्क (सिम्युलेटर)</translation>
    </message>
    <message>
        <source>Hospital card P&amp;IN:</source>
        <translation>अस्पताल कार्ड पिन (&amp;I):</translation>
    </message>
    <message>
        <source>Hospital card in its reader. Open the desk.</source>
        <translation>अस्पताल कार्ड रीडर में है। डेस्क खोलें।</translation>
    </message>
    <message>
        <source>Open ad&amp;mission:</source>
        <translation>खुली भर्ती (&amp;M):</translation>
    </message>
    <message>
        <source>Pac&amp;kage:</source>
        <translation>पैकेज (&amp;K):</translation>
    </message>
    <message>
        <source>Patient verified ({0}, {1} tries).</source>
        <translation>मरीज़ सत्यापित ({0}, {1} प्रयास)।</translation>
    </message>
    <message>
        <source>Simulator: insert this &amp;household's card</source>
        <translation>सिम्युलेटर: इस परिवार का कार्ड लगाएँ (&amp;H)</translation>
    </message>
    <message>
        <source>Simulator: three da&amp;ys pass</source>
        <translation>सिम्युलेटर: तीन दिन बीतें (&amp;Y)</translation>
    </message>
    <message>
        <source>The fingerprint did not match. Try an attendant's finger or a supervisor's override.</source>
        <translation>फिंगरप्रिंट मेल नहीं खाया। परिचारक की उंगली या पर्यवेक्षक की अनुमति आज़माएँ।</translation>
    </message>
    <message>
        <source>Simulator: the patient's fingertips are worn (&amp;none can be read)</source>
        <translation>सिम्युलेटर: मरीज़ की उंगलियों के सिरे घिसे हुए हैं (कोई नहीं पढ़ी जाती) (&amp;N)</translation>
    </message>
    <message>
        <source>Verify an a&amp;ttendant's finger (another member)</source>
        <translation>परिचारक की उंगली सत्यापित करें (परिवार का दूसरा सदस्य) (&amp;T)</translation>
    </message>
    <message>
        <source>why the finger cannot be used, how identity was confirmed</source>
        <translation>उंगली क्यों नहीं चल सकती, पहचान कैसे पक्की की गई</translation>
    </message>
    <message>
        <source>Supervisor ove&amp;rride (photo of the patient + reason)</source>
        <translation>पर्यवेक्षक की अनुमति (मरीज़ की फ़ोटो + कारण) (&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Write today's claims file</source>
        <translation>आज की दावा फ़ाइल लिखें (&amp;W)</translation>
    </message>
    <message>
        <source>Attendant:</source>
        <translation>परिचारक:</translation>
    </message>
    <message>
        <source>S&amp;upervisor:</source>
        <translation>पर्यवेक्षक (&amp;U):</translation>
    </message>
    <message>
        <source>Supervisor pa&amp;ssword:</source>
        <translation>पर्यवेक्षक का पासवर्ड (&amp;S):</translation>
    </message>
    <message>
        <source>R&amp;eason:</source>
        <translation>कारण (&amp;E):</translation>
    </message>
    <message>
        <source>own finger</source>
        <translation>अपनी उंगली</translation>
    </message>
    <message>
        <source>own other finger</source>
        <translation>अपनी दूसरी उंगली</translation>
    </message>
    <message>
        <source>attendant's finger</source>
        <translation>परिचारक की उंगली</translation>
    </message>
    <message>
        <source>supervisor override</source>
        <translation>पर्यवेक्षक की अनुमति</translation>
    </message>
    <message>
        <source>Fraud flag raised: {0}.</source>
        <translation>धोखाधड़ी का संकेत दर्ज: {0}।</translation>
    </message>
    <message>
        <source>Claims file for {0}: {1} claims, {2} fraud flags, signed by the hospital card.
{3}</source>
        <translation>{0} की दावा फ़ाइल: {1} दावे, {2} धोखाधड़ी संकेत, अस्पताल कार्ड द्वारा हस्ताक्षरित।
{3}</translation>
    </message>
    <message>
        <source>Pre-authorisation num&amp;ber:</source>
        <translation>पूर्व-अनुमति सं. (&amp;B):</translation>
    </message>
    <message>
        <source>the insurer's authorisation number (packages marked pre-auth)</source>
        <translation>बीमाकर्ता की अनुमति संख्या (पूर्व-अनुमति वाले पैकेज)</translation>
    </message>
    <message>
        <source>pre-auth</source>
        <translation>पूर्व-अनुमति</translation>
    </message>
    <message>
        <source>no photo on the card</source>
        <translation>कार्ड पर फ़ोटो नहीं</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>भाषा (&amp;L)</translation>
    </message>
</context>
<context>
    <name>HouseholdsScreen</name>
    <message>
        <source>&amp;Back to set-up</source>
        <translation>सेट-अप पर वापस (&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Enrol selected household</source>
        <translation>चुने गए परिवार का नामांकन (&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Search:</source>
        <translation>खोजें (&amp;S):</translation>
    </message>
    <message>
        <source>Camp s&amp;ummary</source>
        <translation>शिविर सारांश (&amp;U)</translation>
    </message>
    <message>
        <source>Choose a household first.</source>
        <translation>पहले एक परिवार चुनें।</translation>
    </message>
    <message>
        <source>Head of household</source>
        <translation>परिवार का मुखिया</translation>
    </message>
    <message>
        <source>Households</source>
        <translation>परिवार</translation>
    </message>
    <message>
        <source>Households: {0}</source>
        <translation>परिवार: {0}</translation>
    </message>
    <message>
        <source>Insured</source>
        <translation>बीमित</translation>
    </message>
    <message>
        <source>Name (Hindi)</source>
        <translation>नाम (हिन्दी)</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>स्थिति</translation>
    </message>
    <message>
        <source>URN</source>
        <translation>यूआरएन</translation>
    </message>
    <message>
        <source>Village</source>
        <translation>गाँव</translation>
    </message>
    <message>
        <source>name, URN or village</source>
        <translation>नाम, यूआरएन या गाँव</translation>
    </message>
    <message>
        <source>Exclusion / grievance &amp;form…</source>
        <translation>बहिष्करण / शिकायत फ़ॉर्म… (&amp;F)</translation>
    </message>
    <message>
        <source>Exclusion form</source>
        <translation>बहिष्करण फ़ॉर्म</translation>
    </message>
    <message>
        <source>Grievance form</source>
        <translation>शिकायत फ़ॉर्म</translation>
    </message>
    <message>
        <source>{0} no. {1} recorded for {2}.</source>
        <translation>{2} के लिए {0} सं. {1} दर्ज किया गया।</translation>
    </message>
</context>
<context>
    <name>LoginScreen</name>
    <message>
        <source>&amp;Login:</source>
        <translation>लॉगिन (&amp;L):</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>पासवर्ड (&amp;P):</translation>
    </message>
    <message>
        <source>&amp;Sign in</source>
        <translation>साइन इन (&amp;S)</translation>
    </message>
    <message>
        <source>Enrolment station — sign in</source>
        <translation>नामांकन स्टेशन — साइन इन</translation>
    </message>
    <message>
        <source>Simulated camp: sign in as “{0}” with the password “{1}”.</source>
        <translation>सिम्युलेटेड शिविर: “{0}” के रूप में पासवर्ड “{1}” से साइन इन करें।</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;Language</source>
        <translation>भाषा (&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Log out</source>
        <translation>लॉग आउट (&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>बंद करें (&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Station</source>
        <translation>स्टेशन (&amp;S)</translation>
    </message>
    <message>
        <source>Camp closed: bundle exported</source>
        <translation>शिविर बंद: बंडल निर्यात हुआ</translation>
    </message>
    <message>
        <source>Camp open ({0})</source>
        <translation>शिविर खुला ({0})</translation>
    </message>
    <message>
        <source>Enrolment station</source>
        <translation>नामांकन स्टेशन</translation>
    </message>
    <message>
        <source>FKO locked</source>
        <translation>एफ़केओ लॉक</translation>
    </message>
    <message>
        <source>FKO unlocked: {0}</source>
        <translation>एफ़केओ अनलॉक: {0}</translation>
    </message>
    <message>
        <source>Operator: {0}</source>
        <translation>ऑपरेटर: {0}</translation>
    </message>
    <message>
        <source>SIMULATORS</source>
        <translation>सिम्युलेटर</translation>
    </message>
    <message>
        <source>Exclusion / grievance &amp;form…</source>
        <translation>बहिष्करण / शिकायत फ़ॉर्म… (&amp;F)</translation>
    </message>
    <message>
        <source>Open the camp first.</source>
        <translation>पहले शिविर खोलें।</translation>
    </message>
</context>
<context>
    <name>Member</name>
    <message>
        <source>brother</source>
        <translation>भाई</translation>
    </message>
    <message>
        <source>daughter</source>
        <translation>पुत्री</translation>
    </message>
    <message>
        <source>daughter-in-law</source>
        <translation>बहू</translation>
    </message>
    <message>
        <source>father</source>
        <translation>पिता</translation>
    </message>
    <message>
        <source>female</source>
        <translation>महिला</translation>
    </message>
    <message>
        <source>grandchild</source>
        <translation>पोता/पोती</translation>
    </message>
    <message>
        <source>head</source>
        <translation>मुखिया</translation>
    </message>
    <message>
        <source>male</source>
        <translation>पुरुष</translation>
    </message>
    <message>
        <source>mother</source>
        <translation>माता</translation>
    </message>
    <message>
        <source>other</source>
        <translation>अन्य</translation>
    </message>
    <message>
        <source>sister</source>
        <translation>बहन</translation>
    </message>
    <message>
        <source>son</source>
        <translation>पुत्र</translation>
    </message>
    <message>
        <source>son-in-law</source>
        <translation>दामाद</translation>
    </message>
    <message>
        <source>spouse</source>
        <translation>पति/पत्नी</translation>
    </message>
    <message>
        <source>transgender</source>
        <translation>ट्रांसजेंडर</translation>
    </message>
</context>
<context>
    <name>MembersPage</name>
    <message>
        <source>Check each member with the family. The head's name is locked to the list; dependants' details can be corrected. Tick who is insured (at most five).</source>
        <translation>हर सदस्य की जानकारी परिवार के साथ जाँचें। मुखिया का नाम सूची के अनुसार तय है; आश्रितों का विवरण सुधारा जा सकता है। बीमित सदस्यों पर निशान लगाएँ (अधिकतम पाँच)।</translation>
    </message>
    <message>
        <source>Gender</source>
        <translation>लिंग</translation>
    </message>
    <message>
        <source>Insured</source>
        <translation>बीमित</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>नाम</translation>
    </message>
    <message>
        <source>Name (Hindi)</source>
        <translation>नाम (हिन्दी)</translation>
    </message>
    <message>
        <source>Relationship</source>
        <translation>संबंध</translation>
    </message>
    <message>
        <source>The head's name is locked to the list</source>
        <translation>मुखिया का नाम सूची के अनुसार तय है</translation>
    </message>
    <message>
        <source>Year of birth</source>
        <translation>जन्म वर्ष</translation>
    </message>
    <message>
        <source>insured: {0}</source>
        <translation>बीमित: {0}</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Cancelled. What was already saved stays saved.</source>
        <translation>रद्द किया गया। जो पहले सहेजा जा चुका है वह सुरक्षित है।</translation>
    </message>
    <message>
        <source>No finger was read in time. Ask for the finger again and press capture.</source>
        <translation>समय पर कोई उंगली नहीं पढ़ी गई। उंगली फिर से माँगें और कैप्चर दबाएँ।</translation>
    </message>
    <message>
        <source>Not allowed by the scheme's rules.</source>
        <translation>योजना के नियमों के अनुसार अनुमति नहीं है।</translation>
    </message>
    <message>
        <source>Something went wrong; the step did not complete.</source>
        <translation>कुछ गलत हुआ; यह चरण पूरा नहीं हुआ।</translation>
    </message>
    <message>
        <source>The card did not answer as expected. Take it out, put it back and try again.</source>
        <translation>कार्ड ने अपेक्षित उत्तर नहीं दिया। उसे निकालें, वापस लगाएँ और फिर प्रयास करें।</translation>
    </message>
    <message>
        <source>The card reader is missing. Check its cable, then refresh the devices on the set-up screen.</source>
        <translation>कार्ड रीडर नहीं मिला। केबल जाँचें, फिर सेट-अप स्क्रीन पर उपकरण ताज़ा करें।</translation>
    </message>
    <message>
        <source>The card was pulled out while it was being used. Put it back in the reader and try again; the station continues where it stopped.</source>
        <translation>उपयोग के दौरान कार्ड निकाल लिया गया। उसे रीडर में वापस लगाएँ और फिर प्रयास करें; स्टेशन वहीं से आगे बढ़ेगा जहाँ रुका था।</translation>
    </message>
    <message>
        <source>The fingerprint scanner is missing or not answering. Check its cable, then refresh the devices on the set-up screen.</source>
        <translation>फिंगरप्रिंट स्कैनर नहीं मिला या उत्तर नहीं दे रहा। केबल जाँचें, फिर सेट-अप स्क्रीन पर उपकरण ताज़ा करें।</translation>
    </message>
    <message>
        <source>The step did not complete.</source>
        <translation>यह चरण पूरा नहीं हुआ।</translation>
    </message>
    <message>
        <source>There is no card in the reader. Insert the card and try again.</source>
        <translation>रीडर में कोई कार्ड नहीं है। कार्ड लगाएँ और फिर प्रयास करें।</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Activating the card</source>
        <translation>कार्ड सक्रिय किया जा रहा है</translation>
    </message>
    <message>
        <source>Bundle written</source>
        <translation>बंडल लिखा गया</translation>
    </message>
    <message>
        <source>Card issued</source>
        <translation>कार्ड जारी</translation>
    </message>
    <message>
        <source>Checking the card</source>
        <translation>कार्ड जाँचा जा रहा है</translation>
    </message>
    <message>
        <source>FKO authorisation</source>
        <translation>एफ़केओ प्राधिकरण</translation>
    </message>
    <message>
        <source>FKO card unlocked</source>
        <translation>एफ़केओ कार्ड अनलॉक हुआ</translation>
    </message>
    <message>
        <source>Fingers done</source>
        <translation>उंगलियाँ पूरी</translation>
    </message>
    <message>
        <source>Opening the station database</source>
        <translation>स्टेशन डेटाबेस खोला जा रहा है</translation>
    </message>
    <message>
        <source>Preparing the simulated camp (keys, signed list, FKO card)</source>
        <translation>सिम्युलेटेड शिविर तैयार हो रहा है (कुंजियाँ, हस्ताक्षरित सूची, एफ़केओ कार्ड)</translation>
    </message>
    <message>
        <source>Printing the card face and the receipt</source>
        <translation>कार्ड मुखपृष्ठ और रसीद छापी जा रही है</translation>
    </message>
    <message>
        <source>Reading the FKO card</source>
        <translation>एफ़केओ कार्ड पढ़ा जा रहा है</translation>
    </message>
    <message>
        <source>Reading the FKO ledger and sealing the bundle</source>
        <translation>एफ़केओ लेजर पढ़कर बंडल सील किया जा रहा है</translation>
    </message>
    <message>
        <source>Reading the card in the family reader</source>
        <translation>परिवार रीडर में कार्ड पढ़ा जा रहा है</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>तैयार</translation>
    </message>
    <message>
        <source>Writing the family card</source>
        <translation>परिवार कार्ड लिखा जा रहा है</translation>
    </message>
</context>
<context>
    <name>Reasons</name>
    <message>
        <source>fingers too worn to read (poor quality)</source>
        <translation>उंगलियाँ इतनी घिसी हैं कि पढ़ी नहीं जातीं (खराब गुणवत्ता)</translation>
    </message>
    <message>
        <source>missing fingers (amputation or from birth)</source>
        <translation>उंगलियाँ नहीं हैं (कटी हुई या जन्म से)</translation>
    </message>
    <message>
        <source>injury (bandage, burn, cut)</source>
        <translation>चोट (पट्टी, जलन, कटाव)</translation>
    </message>
    <message>
        <source>child too young for stable prints</source>
        <translation>बच्चा बहुत छोटा है, प्रिंट स्थिर नहीं</translation>
    </message>
    <message>
        <source>refuses to be photographed</source>
        <translation>फ़ोटो खिंचवाने से मना करता/करती है</translation>
    </message>
    <message>
        <source>the device broke during the camp</source>
        <translation>शिविर के दौरान उपकरण खराब हो गया</translation>
    </message>
</context>
<context>
    <name>SetupScreen</name>
    <message>
        <source>&amp;Browse…</source>
        <translation>ब्राउज़ करें… (&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Continue to the household list</source>
        <translation>परिवार सूची पर आगे बढ़ें (&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Import list</source>
        <translation>सूची आयात करें (&amp;I)</translation>
    </message>
    <message>
        <source>&amp;Open camp</source>
        <translation>शिविर खोलें (&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Refresh devices</source>
        <translation>उपकरण ताज़ा करें (&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Village:</source>
        <translation>गाँव (&amp;V):</translation>
    </message>
    <message>
        <source>1. Household list from the district</source>
        <translation>1. ज़िले से परिवार सूची</translation>
    </message>
    <message>
        <source>2. Camp</source>
        <translation>2. शिविर</translation>
    </message>
    <message>
        <source>3. Devices</source>
        <translation>3. उपकरण</translation>
    </message>
    <message>
        <source>Camp open</source>
        <translation>शिविर खुला है</translation>
    </message>
    <message>
        <source>Camp open in {0}.</source>
        <translation>{0} में शिविर खुला।</translation>
    </message>
    <message>
        <source>Camp set-up</source>
        <translation>शिविर सेट-अप</translation>
    </message>
    <message>
        <source>Check the cable and the configuration, then press Refresh devices.</source>
        <translation>केबल और कॉन्फ़िगरेशन जाँचें, फिर "उपकरण ताज़ा करें" दबाएँ।</translation>
    </message>
    <message>
        <source>Configured as</source>
        <translation>कॉन्फ़िगरेशन</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>विवरण</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>उपकरण</translation>
    </message>
    <message>
        <source>Household list</source>
        <translation>परिवार सूची</translation>
    </message>
    <message>
        <source>Household lists (*.jsonl);;All files (*)</source>
        <translation>परिवार सूचियाँ (*.jsonl);;सभी फ़ाइलें (*)</translation>
    </message>
    <message>
        <source>Import the household list first.</source>
        <translation>पहले परिवार सूची आयात करें।</translation>
    </message>
    <message>
        <source>List &amp;file:</source>
        <translation>सूची फ़ाइल (&amp;F):</translation>
    </message>
    <message>
        <source>List imported: {0} households, {1} people, signed by district {2}.</source>
        <translation>सूची आयात हुई: {0} परिवार, {1} व्यक्ति, ज़िला {2} द्वारा हस्ताक्षरित।</translation>
    </message>
    <message>
        <source>No camp open</source>
        <translation>कोई शिविर खुला नहीं</translation>
    </message>
    <message>
        <source>State</source>
        <translation>स्थिति</translation>
    </message>
    <message>
        <source>There is no file at {0}. Choose the list the district sent.</source>
        <translation>{0} पर कोई फ़ाइल नहीं है। ज़िले द्वारा भेजी गई सूची चुनें।</translation>
    </message>
    <message>
        <source>{0} is missing or not working: {1}</source>
        <translation>{0} नहीं मिला या काम नहीं कर रहा: {1}</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <source>captured</source>
        <translation>कैप्चर पूरा</translation>
    </message>
    <message>
        <source>card issued</source>
        <translation>कार्ड जारी</translation>
    </message>
    <message>
        <source>enrolling</source>
        <translation>नामांकन जारी</translation>
    </message>
    <message>
        <source>issuing</source>
        <translation>कार्ड बन रहा है</translation>
    </message>
    <message>
        <source>listed</source>
        <translation>सूची में</translation>
    </message>
</context>
<context>
    <name>SummaryScreen</name>
    <message>
        <source>&amp;Back to the household list</source>
        <translation>परिवार सूची पर वापस (&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Export the camp bundle</source>
        <translation>शिविर बंडल निर्यात करें (&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Unlock the FKO card</source>
        <translation>एफ़केओ कार्ड अनलॉक करें (&amp;U)</translation>
    </message>
    <message>
        <source>Bundle written: {0}
{1} households, {2} cards, {3} ledger entries
SHA-256 {4}</source>
        <translation>बंडल लिखा गया: {0}
{1} परिवार, {2} कार्ड, {3} लेजर प्रविष्टियाँ
SHA-256 {4}</translation>
    </message>
    <message>
        <source>Camp bundle exported; the camp is closed.</source>
        <translation>शिविर बंडल निर्यात हुआ; शिविर बंद है।</translation>
    </message>
    <message>
        <source>Camp summary</source>
        <translation>शिविर सारांश</translation>
    </message>
    <message>
        <source>Export for the district</source>
        <translation>ज़िले के लिए निर्यात</translation>
    </message>
    <message>
        <source>Exporting closes the camp. The bundle is sealed to the district.</source>
        <translation>निर्यात करने से शिविर बंद हो जाता है। बंडल केवल ज़िला खोल सकता है।</translation>
    </message>
    <message>
        <source>FKO issuances left</source>
        <translation>एफ़केओ कार्ड जारी करना शेष</translation>
    </message>
    <message>
        <source>The bundle carries the FKO card's signed ledger: unlock the FKO card first.</source>
        <translation>बंडल में एफ़केओ कार्ड का हस्ताक्षरित लेजर होता है: पहले एफ़केओ कार्ड अनलॉक करें।</translation>
    </message>
    <message>
        <source>This camp</source>
        <translation>यह शिविर</translation>
    </message>
    <message>
        <source>biometric exceptions</source>
        <translation>बायोमेट्रिक अपवाद</translation>
    </message>
    <message>
        <source>cards issued</source>
        <translation>जारी कार्ड</translation>
    </message>
    <message>
        <source>members enrolled</source>
        <translation>नामांकित सदस्य</translation>
    </message>
</context>
</TS>
