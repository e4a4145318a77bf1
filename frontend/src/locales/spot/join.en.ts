// Spot sessions: the officer's join page (loaded with that page, not in the main bundle; the home
// entry's texts are in ../en.ts under `spot`). Typed against zh-CN: a missing or extra key fails.
import type zhCN from './join.zh-CN'

const en: typeof zhCN = {
  spot: {
    join: {
      title: 'Join a spot session',
      subtitle: 'On-site spot session',
      entryHint: "Enter the 6-digit code the inspectors show, or scan their QR code with your phone.",
      code: 'Code',
      codePlaceholder: '6 digits',
      codeInvalid: 'The code has 6 digits.',
      submit: 'Join',
      joining: 'Joining…',
      oralWaiting: "You have joined this oral session. Answer the inspectors' questions when asked.",
      late: 'You joined well after the draw and are marked late.',
      home: 'Back to home',
      retrying: 'You will join as soon as it starts (trying every {n} s)…',
      fixCode: 'Enter the code again',
      otherCode: 'Enter another code',
      errors: {
        spot_code_invalid: 'This code is wrong, or its session has closed. Check it and try again.',
        spot_not_started: 'The inspectors have not drawn yet. Please wait.',
        spot_not_drawn: 'You were not drawn for this session; there is nothing to answer.',
        spot_out_of_scope: 'This session is for another unit; you are not part of it.',
        spot_other_device: 'You joined on another phone. Keep using that one, or ask the inspectors to release it first.',
        validation_error: 'The code has 6 digits.',
        role_forbidden: 'This account cannot join spot sessions.',
      },
    },
  },
}

export default en
