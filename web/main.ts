document.getElementById('app')!.textContent = 'runledger';
